append_path{"PATH", "/opt/tail/bin", priority=100}
