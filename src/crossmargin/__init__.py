"""crossmargin: a cross-margin borrow/lend engine that speaks Backpack's API."""
