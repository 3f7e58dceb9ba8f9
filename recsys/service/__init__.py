"""What pages and the CLI call: trained runs, serving, page views, presets, the workspace, export."""
