"""Talking to the Kubernetes API: the kubeconfig, the HTTP transport, the client, the objects
and their shards, and the Context every command gets. Nothing here imports the layers above."""
