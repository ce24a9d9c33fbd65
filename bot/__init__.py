"""jiazhan (家站): the application: assembly, settings, locales and the domain services."""
