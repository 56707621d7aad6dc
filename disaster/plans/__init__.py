"""災害時マイプラン (個別避難計画, 災害対策基本法 49条の14): content and rendering."""
