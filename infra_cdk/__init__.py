"""The CDK app that deploys Strata: per-stage settings, one construct per concern.

Nothing imports this package; it imports the endpoint catalog and the pynamodb models
so that the deployed functions, routes, permissions and tables follow them.
"""
