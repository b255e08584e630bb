"""Projects: the default project of the embedded deployment, listing."""
