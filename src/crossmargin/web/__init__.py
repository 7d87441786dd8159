"""The web page: static HTML, CSS and JavaScript served by `crossmargin serve` (no build step, no CDN)."""
