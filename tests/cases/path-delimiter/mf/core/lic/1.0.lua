prepend_path("LIC_FILE", "/opt/lic/a.dat", ";")
append_path("LIC_FILE", "/opt/lic/b.dat", ";")
prepend_path("LIC_FILE", "/opt/lic/first.dat", ";")
append_path{"SPACED", "beta", delim=" "}
prepend_path{"SPACED", "alpha", delim=" "}
