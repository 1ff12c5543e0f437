"""Personalization: the sandboxed template engine, the render context and the template library.

Public services: `renderer.render(version_id, context)` (personalization.renderer),
`context_builder.for_customers(session, ids, extra)` (personalization.context) and
`template_service` (personalization.service). Everything else is internal to the package.
"""
