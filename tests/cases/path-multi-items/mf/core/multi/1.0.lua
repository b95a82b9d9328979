prepend_path("PATH", "/opt/multi/bin:/opt/multi/sbin")
append_path("MULTI_LIST", "x:y:z")
