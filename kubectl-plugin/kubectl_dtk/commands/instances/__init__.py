"""Assemblies and service instances: listing (list-assemblies, ls), nodes (list-nodes), deploy
(deploy, stage) and lifecycle (start, stop, delete-and-destroy), with the helpers only they use."""
