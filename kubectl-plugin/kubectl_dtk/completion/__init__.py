"""`kubectl_complete-dtk`: Tab completion for `kubectl dtk`, through kubectl's plugin completion."""
