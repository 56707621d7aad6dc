"""Map building: static SVG maps for PDFs (``maps.static_svg``) and interactive maps."""
