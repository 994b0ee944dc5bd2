"""soredi-nb: notebooks and reports for working through MedCom's SOR-EDI quality extract."""

from soredi_nb.exceptions import ExtractError, OrganisationError, SorediError
from soredi_nb.extract import Extract, ExtractInfo, Problem

__all__ = [
    "Extract",
    "ExtractError",
    "ExtractInfo",
    "OrganisationError",
    "Problem",
    "SorediError",
]

__version__ = "0.1.0"
