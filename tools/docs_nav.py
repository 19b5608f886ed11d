"""MkDocs hook (mkdocs.yml `hooks:`): the site's sidebar in MkDocs's own order of the pages
(the home page, the top-level pages, then each folder's, index first) but with the guides right
after the home page, where a newcomer looks first. The pages are still found, not listed: a new
model's generated page joins the sidebar by itself."""

from __future__ import annotations

from typing import Any

from mkdocs.structure.files import File, Files, InclusionLevel, file_sort_key
from mkdocs.utils import nest_paths

FIRST = ("index.md", "guides/")
"""What leads the sidebar, in order: a page, or a folder's pages."""


def sidebar_rank(page: File) -> int:
    """Where a page's group stands: its place in FIRST, else after all of FIRST."""
    return next((i for i, lead in enumerate(FIRST) if page.src_uri == lead or
                 (lead.endswith("/") and page.src_uri.startswith(lead))), len(FIRST))


def on_files(files: Files, config: Any) -> Files:
    """Set the nav the build would have found, with FIRST moved to the front."""
    pages = sorted(files.documentation_pages(inclusion=InclusionLevel.is_in_nav), key=file_sort_key)
    config["nav"] = nest_paths(p.src_uri for p in sorted(pages, key=sidebar_rank))
    return files
