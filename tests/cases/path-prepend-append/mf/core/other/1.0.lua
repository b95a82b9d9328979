prepend_path("PATH", "/opt/other/bin")
append_path("PATH", "/opt/other/late")
