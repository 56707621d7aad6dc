"""Rendering Jinja2 templates to PDF. One ``PdfRenderer`` per process: its font configuration
and parsed stylesheets are reused for every document (re-creating them per document is what
makes naive rendering slow)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from weasyprint import CSS, HTML
from weasyprint.document import Document
from weasyprint.text.fonts import FontConfiguration

from disaster.pdf.fetcher import AssetFetcher
from disaster.pdf.fonts import plan_fonts
from disaster.resources import templates_dir


def _finalize(value: Any) -> Any:
    """Never print ``None``: missing data is left blank (templates draw a line to fill in)."""
    return "" if value is None else value


def template_environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(templates_dir()),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
    )


class TemplateHTML(HTML):
    """HTML with the project's minimal user-agent stylesheet (``templates/ua.css``)."""

    ua_stylesheet: CSS | None = None

    def _ua_stylesheets(self, forms: bool = False) -> list[CSS]:
        assert self.ua_stylesheet is not None
        return [self.ua_stylesheet]


class PdfRenderer:
    """Renders templates with the embedded Japanese font and the asset-only fetcher."""

    def __init__(self, stylesheets: list[str], assets: dict[str, Path] | None = None):
        fonts = plan_fonts()
        self.fetcher = AssetFetcher({"font/common.ttf": fonts.common, "font/full.ttf": fonts.full, **(assets or {})})
        self.font_config = FontConfiguration()
        font_faces = (
            '@font-face { font-family: "PlanGothic"; src: url("asset:font/common.ttf"); }\n'
            '@font-face { font-family: "PlanGothicFull"; src: url("asset:font/full.ttf"); }\n'
        )
        self.stylesheets = [CSS(string=font_faces, font_config=self.font_config, url_fetcher=self.fetcher)] + [
            CSS(string=(templates_dir() / name).read_text(encoding="utf-8"), font_config=self.font_config,
                url_fetcher=self.fetcher)
            for name in stylesheets
        ]
        self.ua = CSS(string=(templates_dir() / "ua.css").read_text(encoding="utf-8"), font_config=self.font_config,
                      url_fetcher=self.fetcher)
        self.env = template_environment()
        logging.getLogger("weasyprint").setLevel(logging.ERROR)

    def html(self, template: str, context: dict[str, Any]) -> str:
        return self.env.get_template(template).render(**context)

    def document(self, template: str, context: dict[str, Any], extra_css: CSS | None = None) -> Document:
        """The laid-out document (pages and boxes), e.g. to check where tables break."""
        stylesheets = self.stylesheets + ([extra_css] if extra_css is not None else [])
        html = TemplateHTML(string=self.html(template, context), url_fetcher=self.fetcher, base_url="asset:")
        html.ua_stylesheet = self.ua
        return html.render(stylesheets=stylesheets, font_config=self.font_config)

    def pdf(self, template: str, context: dict[str, Any], extra_css: CSS | None = None) -> tuple[bytes, int]:
        """(PDF bytes, page count)."""
        document = self.document(template, context, extra_css)
        return document.write_pdf(), len(document.pages)

    def css(self, text: str) -> CSS:
        return CSS(string=text, font_config=self.font_config, url_fetcher=self.fetcher)
