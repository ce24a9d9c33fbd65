"""`python -m bot demo`: the real application over an in-process Bot API, in a terminal."""
