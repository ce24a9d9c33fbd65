"""Sample data shipped with the bot: the stations a first run (and the demo) starts with."""
