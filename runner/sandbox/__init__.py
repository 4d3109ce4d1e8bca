"""The embedded Veza-compatible sandbox: a generated access graph, a query engine over it, and an HTTP server."""
