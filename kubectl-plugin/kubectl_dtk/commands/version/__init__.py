"""`kubectl dtk version`: the plugin's version, and with --server what runs in the cluster."""
