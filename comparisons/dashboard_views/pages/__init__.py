"""Pure page builders of the dashboards: a page's stored rows -> tables, sentences and figures.

No ORM, no request: each builder takes the scope (already read), the page's record from
`comparisons.dashboard_data` and the query-string state the links keep, and returns the page's
part of the template context, including ``tables`` (what `?export=` may download).
"""
