# Debian packages (CPack DEB, one per component), built by scripts/package:
#   fedsmear-client       /usr/bin/fedsmear-client, /etc/fedsmear/client.yaml, the systemd unit
#   fedsmear-coordinator  /usr/bin/fedsmear-coordinator, /etc/fedsmear/coordinator.yaml, the unit
#                         (one run) and fedsmear-coordinator-jobs (a service taking jobs),
#                         and /usr/share/fedsmear/monitoring (Grafana dashboard, Prometheus alert
#                         rules and their promtool tests: packaging/monitoring)
#   fedsmear-tools        /usr/bin/fedsmear (keygen, doctor, data-info, train, evaluate, ...)
# Depends: are computed by dpkg-shlibdeps from the binaries (runtime libraries, never -dev);
# client and coordinator also depend on fedsmear-tools (keygen at install, doctor). Files under
# /etc are conffiles, so an upgrade keeps local edits. Maintainer scripts: packaging/debian.

set(pkg_dir ${PROJECT_SOURCE_DIR}/packaging)
set(gen_dir ${PROJECT_BINARY_DIR}/packaging)

install(TARGETS fedsmear-client RUNTIME DESTINATION bin COMPONENT client)
install(TARGETS fedsmear-coordinator RUNTIME DESTINATION bin COMPONENT coordinator)
install(TARGETS fedsmear RUNTIME DESTINATION bin COMPONENT tools)

# The documented example configs, pointed at the packaged layout.
file(READ ${PROJECT_SOURCE_DIR}/configs/client.yaml client_yaml)
string(REPLACE "coordinator_public_key_file: keys/coordinator.pub "
               "coordinator_public_key_file: /etc/fedsmear/keys/coordinator.pub " client_yaml "${client_yaml}")
string(REPLACE "secret_key_file: keys/site-a.key        "
               "secret_key_file: /etc/fedsmear/keys/site.key" client_yaml "${client_yaml}")
string(REPLACE "signing_key_file: keys/site-a.sign.key  "
               "signing_key_file: /etc/fedsmear/keys/site.sign.key" client_yaml "${client_yaml}")
string(REPLACE "state_dir: state                       "
               "state_dir: /var/lib/fedsmear/state     " client_yaml "${client_yaml}")
string(REPLACE "root: data/train                       "
               "root: /srv/fedsmear/images             " client_yaml "${client_yaml}")
file(WRITE ${gen_dir}/etc/client.yaml "${client_yaml}")
file(READ ${PROJECT_SOURCE_DIR}/configs/coordinator.yaml coordinator_yaml)
string(REPLACE "secret_key_file: keys/coordinator.key"
               "secret_key_file: /etc/fedsmear/keys/coordinator.key" coordinator_yaml "${coordinator_yaml}")
string(REPLACE "allowed_sites_file: keys/allowed_sites"
               "allowed_sites_file: /etc/fedsmear/keys/allowed_sites" coordinator_yaml "${coordinator_yaml}")
string(REPLACE "signing_key_file: \"\"              "
               "signing_key_file: /etc/fedsmear/keys/coordinator.sign.key " coordinator_yaml
               "${coordinator_yaml}")
string(REPLACE "run_dir: runs/latest             "
               "run_dir: /var/lib/fedsmear/run   " coordinator_yaml "${coordinator_yaml}")
string(REPLACE "path: data/holdout" "path: /srv/fedsmear/holdout" coordinator_yaml "${coordinator_yaml}")
file(WRITE ${gen_dir}/etc/coordinator.yaml "${coordinator_yaml}")

# Maintainer scripts and conffiles per component.
function(fedsmear_debian_scripts comp pkg keyname unit config state_dirs)
  set(PKG ${pkg})
  set(KEYNAME ${keyname})
  set(UNIT ${unit})
  set(CONFIG ${config})
  set(STATE_DIRS ${state_dirs})
  foreach(script postinst prerm postrm)
    configure_file(${pkg_dir}/debian/${script}.in ${gen_dir}/${comp}/${script} @ONLY
      FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
        WORLD_READ WORLD_EXECUTE)
  endforeach()
  file(WRITE ${gen_dir}/${comp}/conffiles "/etc/fedsmear/${config}\n")
  install(FILES ${gen_dir}/etc/${config} DESTINATION /etc/fedsmear COMPONENT ${comp})
  install(FILES ${pkg_dir}/systemd/${unit}.service DESTINATION /lib/systemd/system
    COMPONENT ${comp})
  install(FILES ${PROJECT_SOURCE_DIR}/docs/deploy.md DESTINATION share/doc/${pkg} COMPONENT ${comp})
  string(TOUPPER ${comp} COMP)
  set(CPACK_DEBIAN_${COMP}_PACKAGE_CONTROL_EXTRA
    "${gen_dir}/${comp}/postinst;${gen_dir}/${comp}/prerm;${gen_dir}/${comp}/postrm;${gen_dir}/${comp}/conffiles"
    PARENT_SCOPE)
endfunction()
fedsmear_debian_scripts(client fedsmear-client site fedsmear-client client.yaml
  "/var/lib/fedsmear/state")
fedsmear_debian_scripts(coordinator fedsmear-coordinator coordinator fedsmear-coordinator
  coordinator.yaml "/var/lib/fedsmear/run")
# The long-lived service that takes jobs: installed, never enabled (the operator picks one unit).
install(FILES ${pkg_dir}/systemd/fedsmear-coordinator-jobs.service DESTINATION /lib/systemd/system
  COMPONENT coordinator)
install(FILES ${pkg_dir}/monitoring/fedsmear-dashboard.json ${pkg_dir}/monitoring/fedsmear-alerts.yml
  ${pkg_dir}/monitoring/fedsmear-alerts.test.yml
  DESTINATION share/fedsmear/monitoring COMPONENT coordinator)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME fedsmear)
set(CPACK_PACKAGE_VENDOR "fedsmear consortium")
set(CPACK_PACKAGE_CONTACT "fedsmear maintainers <fedsmear@localhost>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL client coordinator tools)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_CLIENT_PACKAGE_NAME fedsmear-client)
set(CPACK_DEBIAN_COORDINATOR_PACKAGE_NAME fedsmear-coordinator)
set(CPACK_DEBIAN_TOOLS_PACKAGE_NAME fedsmear-tools)
set(tools_dep "fedsmear-tools (= ${PROJECT_VERSION}-1), adduser")
set(CPACK_DEBIAN_CLIENT_PACKAGE_DEPENDS "${tools_dep}")
set(CPACK_DEBIAN_COORDINATOR_PACKAGE_DEPENDS "${tools_dep}")
set(CPACK_COMPONENT_CLIENT_DESCRIPTION
  "fedsmear site daemon for hospitals\n Trains a shared blood-smear classifier on local images; only model updates leave the\n site, over CurveZMQ. Connects out to the consortium's coordinator, never listens\n (except an optional loopback /metrics).")
set(CPACK_COMPONENT_COORDINATOR_DESCRIPTION
  "fedsmear coordinator for a hospital consortium\n Runs federated training rounds across the sites, evaluates on held-out sets, keeps\n checkpoints, and serves an optional live status page and Prometheus metrics.")
set(CPACK_COMPONENT_TOOLS_DESCRIPTION
  "fedsmear command-line tools\n Key generation, installation checks (fedsmear doctor), data inspection, central\n training and evaluation, simulations and run reports.")
include(CPack)
