prepend_path("PATH", "/opt/low/bin")
append_path("PATH", "/opt/low/tail")
