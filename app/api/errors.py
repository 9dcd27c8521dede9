class BadRequest(Exception):
    """The request itself is malformed (not the data of a task)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
