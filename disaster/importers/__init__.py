"""Readers and validators for the file formats cities really have.

Each reader returns validated records plus a list of problems; it never touches the
database. Use-cases in ``disaster.usecases.imports`` decide whether to write.
"""
