prepend_path{"PATH", "/opt/high/bin", priority=100}
