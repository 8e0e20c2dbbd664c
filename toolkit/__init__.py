"""ducha: quarterly supervision of a government work report, kept in Excel workbooks."""

__version__ = "0.1.0"
