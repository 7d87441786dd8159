"""The `crossmargin` command-line tool."""
