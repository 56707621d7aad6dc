"""PDF rendering with WeasyPrint: embedded, subset Japanese font; a fetcher that serves only
the template assets; autoescaped Jinja2 templates from ``templates/``."""
