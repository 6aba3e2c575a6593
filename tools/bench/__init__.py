"""``python -m tools.bench``: cold start, warm invocations and DynamoDB calls of every
HTTP function and every worker (the task worker, the scheduler), beside three
references measured in the same run.

``runner`` drives it (a moto server on loopback, the children, the table);
``child`` is the source each fresh process runs; ``scenarios`` makes the state each
endpoint's successful request (or worker's event) needs; ``warm`` times warm
invocations over the in-memory fakes; ``references`` writes the reference subjects;
``report`` renders.

Kept free of imports: the warm child imports this package.
"""
