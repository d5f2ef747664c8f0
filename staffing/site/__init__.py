"""The site folder: `site.toml` plus tables, validated; and the demo-site generator."""

from staffing.site.config import SiteConfig
from staffing.site.load import Site, load_site, read_config

__all__ = ["Site", "SiteConfig", "load_site", "read_config"]
