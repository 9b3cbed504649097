"""One module per ``semeq-live`` sub-command (discovered by ``semeq_live.cli``)."""
