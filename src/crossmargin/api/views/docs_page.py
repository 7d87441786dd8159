"""Our OpenAPI description, as shipped, and the HTML reading page rendered from it (`/openapi.json`, `/docs`).

The description is built from Backpack's published spec and our routes by `scripts/build_openapi.py`
and shipped as `crossmargin/data/openapi.json`; it is read once, on the first request, and served
as stored. The page is rendered here, on the server, from that same description, grouped by tag:
plain HTML and a little CSS, no script and nothing fetched from anywhere else.
"""

from __future__ import annotations

import functools
import json
import re
from html import escape
from importlib import resources
from typing import Any, Final

Node = dict[str, Any]

METHODS: Final = ("get", "post", "put", "patch", "delete")
STYLE: Final = """
body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem 1.5rem;color:#1b1f24}
h2{border-bottom:1px solid #d0d7de;padding-bottom:.2rem;margin-top:2.5rem}
code,.path{font-family:ui-monospace,monospace;font-size:.9em}
section.op{border:1px solid #d0d7de;border-radius:6px;margin:1rem 0;padding:.2rem 1rem .6rem}
.method{display:inline-block;min-width:4.2rem;font-weight:700;font-family:ui-monospace,monospace}
.get{color:#0969da}.post{color:#1a7f37}.patch{color:#9a6700}.delete{color:#cf222e}
.auth{float:right;font-size:.8em;color:#57606a}
table{border-collapse:collapse;margin:.3rem 0}td,th{border:1px solid #d0d7de;padding:.15rem .5rem;text-align:left;
vertical-align:top}th{background:#f6f8fa}nav a{margin-right:.8rem}
"""


@functools.cache
def description_bytes() -> bytes:
    """Return the shipped OpenAPI description, as stored."""
    return (resources.files("crossmargin") / "data" / "openapi.json").read_bytes()


@functools.cache
def docs_page() -> bytes:
    """Return the reading page rendered from the description."""
    return render_page(json.loads(description_bytes())).encode()


def _inline(text: str) -> str:
    """Escape text, keeping Markdown's `code` and **strong** spans."""
    html = escape(text, quote=False)
    html = re.sub(r"`([^`]+)`", r"<code>\1</code>", html)
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", html)


def _paragraphs(text: str) -> str:
    return "".join(f"<p>{_inline(part)}</p>" for part in re.split(r"\n\s*\n", text.strip()) if part.strip())


def _type(schema: Node) -> str:
    """Return a short HTML rendering of a schema's type: a link for a reference."""
    if "$ref" in schema:
        name = str(schema["$ref"]).rsplit("/", 1)[-1]
        return f'<a href="#schema-{escape(name)}">{escape(name)}</a>'
    for combinator in ("allOf", "oneOf", "anyOf"):
        if combinator in schema:
            parts = [_type(part) for part in schema[combinator] if set(part) - {"description"}]
            return " | ".join(parts) if combinator != "allOf" else " & ".join(parts)
    kind = str(schema.get("type", "any"))
    if kind == "array":
        return f"array of {_type(schema.get('items', {}))}"
    if "enum" in schema:
        return " | ".join(f"<code>{escape(str(value))}</code>" for value in schema["enum"])
    if isinstance(schema.get("additionalProperties"), dict):
        return f"map of {_type(schema['additionalProperties'])}"
    fmt = schema.get("format")
    return f"{escape(kind)} ({escape(str(fmt))})" if fmt else escape(kind)


def _description(node: Node) -> str:
    text = node.get("description")
    if not text and isinstance(node.get("schema"), dict):
        text = node["schema"].get("description")
    return _inline(str(text)) if text else ""


def _parameters(operation: Node) -> str:
    parameters = operation.get("parameters", [])
    if not parameters:
        return ""
    rows = "".join(
        f"<tr><td><code>{escape(p['name'])}</code></td><td>{escape(p['in'])}</td>"
        f"<td>{'yes' if p.get('required') else ''}</td><td>{_type(p.get('schema', {}))}</td>"
        f"<td>{_description(p)}</td></tr>"
        for p in parameters
    )
    return f"<table><tr><th>parameter</th><th>in</th><th>required</th><th>type</th><th></th></tr>{rows}</table>"


def _content_types(node: Node) -> str:
    content = node.get("content") or {}
    return ", ".join(_type(media.get("schema", {})) for media in content.values())


def _operation(path: str, method: str, operation: Node) -> str:
    security = operation.get("security") or []
    names = [name for requirement in security for name in requirement]
    if "operatorToken" in names:
        auth = "operator token"
    elif names:
        auth = "signed"
    else:
        auth = "public"
    parts = [
        f'<section class="op" id="{escape(operation.get("operationId", path))}">',
        (
            f'<h3><span class="method {method}">{method.upper()}</span> <span class="path">{escape(path)}</span>'
            f'<span class="auth">{auth}</span></h3>'
        ),
        f"<p>{_inline(operation.get('summary', ''))}</p>",
        _paragraphs(operation.get("description", "")),
        _parameters(operation),
    ]
    body = operation.get("requestBody")
    if body:
        parts.append(f"<p>Body: {_content_types(body)}</p>")
    rows = "".join(
        f"<tr><td>{escape(code)}</td><td>{_inline(response.get('description', ''))}</td>"
        f"<td>{_content_types(response)}</td></tr>"
        for code, response in operation.get("responses", {}).items()
    )
    parts += [f"<table><tr><th>status</th><th></th><th>body</th></tr>{rows}</table>", "</section>"]
    return "".join(parts)


def _schema(name: str, schema: Node) -> str:
    head = f'<h3 id="schema-{escape(name)}">{escape(name)}</h3>{_paragraphs(schema.get("description", ""))}'
    properties = schema.get("properties")
    if not properties:
        return f"{head}<p>{_type(schema)}</p>"
    required = set(schema.get("required", []))
    rows = "".join(
        f"<tr><td><code>{escape(field)}</code></td><td>{'yes' if field in required else ''}</td>"
        f"<td>{_type(value)}</td><td>{_description({'description': value.get('description')})}</td></tr>"
        for field, value in properties.items()
    )
    return f"{head}<table><tr><th>field</th><th>required</th><th>type</th><th></th></tr>{rows}</table>"


def render_page(document: Node) -> str:
    """Return the HTML page listing every operation of an OpenAPI description, grouped by tag."""
    info = document.get("info", {})
    groups: dict[str, list[str]] = {}
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                operation = item[method]
                tag = (operation.get("tags") or ["Other"])[0]
                groups.setdefault(tag, []).append(_operation(path, method, operation))
    order = [tag["name"] for tag in document.get("tags", []) if tag["name"] in groups]
    order += sorted(set(groups) - set(order))
    navigation = "".join(f'<a href="#tag-{escape(tag)}">{escape(tag)}</a>' for tag in order)
    sections = "".join(f'<h2 id="tag-{escape(tag)}">{escape(tag)}</h2>{"".join(groups[tag])}' for tag in order)
    schemas = "".join(
        _schema(name, schema) for name, schema in document.get("components", {}).get("schemas", {}).items()
    )
    title = escape(f"{info.get('title', 'API')} {info.get('version', '')}".strip())
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{STYLE}</style></head><body>'
        f"<h1>{title}</h1>{_paragraphs(info.get('description', ''))}"
        f'<p>Machine-readable: <a href="/openapi.json">/openapi.json</a></p>'
        f'<nav>{navigation}<a href="#schemas">Schemas</a></nav>{sections}'
        f'<h2 id="schemas">Schemas</h2>{schemas}</body></html>'
    )
