"""What the performer sees: the ``rich`` status panel, the headless structured log, keyboard control."""
