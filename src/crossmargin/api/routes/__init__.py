"""Route handlers: thin, they parse input, run one command or read, and render."""
