"""vqr: Veza queries as code.

The package `runner` holds one package per pipeline stage (load, template, validate, rules, compile, plan, execute,
assess, artifact, report, ...); docs/architecture.md maps them.
"""

__version__ = "0.1.0"
