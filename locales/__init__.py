"""The message catalogs (gettext .po files, one folder per locale), shipped as package data
so an installed bot finds them."""
