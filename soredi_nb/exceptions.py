"""Project exceptions: errors a user can cause, with a Danish message that says what to do."""


class SorediError(Exception):
    """Base class for every error a user can cause (bad file, unknown organisation, bad option).

    The message is Danish and complete: what is wrong, where, and what to do. The CLI prints it
    without a traceback and exits with status 1.
    """


class ExtractError(SorediError):
    """The extract cannot be read at all (missing file, not a workbook, no table sheets, ...)."""


class OrganisationError(SorediError):
    """An organisation name or code that matches nothing."""
