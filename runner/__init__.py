"""vqr: Veza queries as code.

The package `runner` holds one module per pipeline stage: load -> template -> validate -> plan -> execute -> report.
"""

__version__ = "0.1.0"
