"""Following a running Task: the watch, the stream, the live view and progress lines, and the
helper threads they need. Above views/ (which draw) and api/ (which reads); below the commands."""
