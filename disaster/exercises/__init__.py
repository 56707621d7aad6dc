"""図上訓練 (tabletop exercises): data-driven scenarios, materials, sessions and tracking."""
