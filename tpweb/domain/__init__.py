"""The rules and queries of touchpoints, accounts, contacts and tasks: no Flask, no request.

Each module answers one question for any caller (a view, the worker, the CLI, a test): what is
due, what a user may see, what changed, what to remind. Queries take the user they are for.
"""
