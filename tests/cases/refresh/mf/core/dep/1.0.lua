prepend_path("PATH", "/opt/dep/bin")
