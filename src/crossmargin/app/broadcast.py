"""Fan-out of stream messages to connections: one bounded queue per connection, slow ones dropped.

A `Broadcaster` lives on one asyncio event loop. Each connection is a `Subscriber` with a bounded
queue of encoded messages and the set of topics it follows. `publish` offers a message to every
subscriber of its topic without ever waiting: a subscriber whose queue is full is dropped there
and then (its topics are forgotten, its queue emptied, its `dropped` event set with a reason), so
one client that stops reading can neither block the sequencer nor delay any other client.

`active` is a frozenset of the topics someone follows, replaced (never mutated) on every change,
so the sequencer thread can ask `wants(topic)` without a lock and skip building messages nobody
will read.
"""

from __future__ import annotations

import asyncio
from typing import Final

QUEUE_SIZE_DEFAULT: Final = 1024


class Subscriber:
    """One connection's queue of messages and the topics it follows."""

    __slots__ = ("drop_reason", "dropped", "queue", "topics")

    def __init__(self, queue_size: int) -> None:
        self.queue: asyncio.Queue[str] = asyncio.Queue(queue_size)
        self.topics: set[str] = set()
        self.dropped = asyncio.Event()
        self.drop_reason = ""


class Broadcaster:
    """Topic -> subscribers, on one event loop; publishing never blocks."""

    def __init__(self, queue_size: int = QUEUE_SIZE_DEFAULT) -> None:
        """Give each subscriber a queue of `queue_size` messages."""
        assert queue_size >= 1, "a subscriber's queue holds at least one message"
        self._queue_size = queue_size
        self._followers: dict[str, set[Subscriber]] = {}
        self.active: frozenset[str] = frozenset()
        self.dropped_count = 0

    def wants(self, topic: str) -> bool:
        """Return whether anyone follows `topic` (safe from any thread)."""
        return topic in self.active

    def connect(self) -> Subscriber:
        """Return a new subscriber that follows nothing yet."""
        return Subscriber(self._queue_size)

    def subscribe(self, subscriber: Subscriber, topic: str) -> None:
        """Make `subscriber` follow `topic`."""
        if subscriber.dropped.is_set():
            return
        subscriber.topics.add(topic)
        self._followers.setdefault(topic, set()).add(subscriber)
        if topic not in self.active:
            self.active = self.active | {topic}

    def unsubscribe(self, subscriber: Subscriber, topic: str) -> None:
        """Stop `subscriber` following `topic`."""
        subscriber.topics.discard(topic)
        followers = self._followers.get(topic)
        if followers is None:
            return
        followers.discard(subscriber)
        if not followers:
            del self._followers[topic]
            self.active = self.active - {topic}

    def disconnect(self, subscriber: Subscriber) -> None:
        """Forget a subscriber and everything it follows."""
        for topic in tuple(subscriber.topics):
            self.unsubscribe(subscriber, topic)

    def publish(self, topic: str, message: str) -> None:
        """Offer a message to every follower of `topic`; drop those whose queue is full."""
        for subscriber in tuple(self._followers.get(topic, ())):
            self.offer(subscriber, message)

    def offer(self, subscriber: Subscriber, message: str) -> None:
        """Queue a message for one subscriber, or drop it if its queue is full."""
        if subscriber.dropped.is_set():
            return
        try:
            subscriber.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.drop(subscriber, f"Slow consumer: more than {self._queue_size} messages waited unread")

    def drop(self, subscriber: Subscriber, reason: str) -> None:
        """Cut a slow subscriber off (counted in `dropped_count`): see `close`."""
        if not subscriber.dropped.is_set():
            self.dropped_count += 1
            self.close(subscriber, reason)

    def close(self, subscriber: Subscriber, reason: str) -> None:
        """Cut a subscriber off: forget its topics, empty its queue, tell its connection why."""
        if subscriber.dropped.is_set():
            return
        subscriber.drop_reason = reason
        self.disconnect(subscriber)
        while not subscriber.queue.empty():
            subscriber.queue.get_nowait()
        subscriber.dropped.set()
