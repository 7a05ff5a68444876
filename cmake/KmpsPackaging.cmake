# The release's Debian package (included at the end of the top-level CMakeLists.txt):
#   cmake --build build && (cd build && cpack -G DEB)   ->  kindmps-api_<version>_<arch>.deb
# It holds everything `cmake --install` installs, under /usr: the CLI, libkindmps.so*, kindmps.h,
# kindmps.pc, the CMake package, the man page, the bash/zsh/fish completions, and the license and
# changelog in /usr/share/doc/kindmps-api. Its dependencies are what dpkg-shlibdeps finds the
# binaries link (libcurl4, libstdc++6, libc6, ...); a postinst/postrm runs ldconfig.
# tests/install/package_deb.sh builds it and checks its contents.

set(KMPS_DOC_DIR ${CMAKE_INSTALL_DATADIR}/doc/kindmps-api)
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE DESTINATION ${KMPS_DOC_DIR} RENAME copyright)
install(FILES ${PROJECT_SOURCE_DIR}/CHANGELOG.md DESTINATION ${KMPS_DOC_DIR})

set(CPACK_PACKAGE_NAME kindmps-api)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR kindmps)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "NVIDIA MPS GPU sharing in kind clusters, through the Docker Engine API")
set(CPACK_PACKAGE_DESCRIPTION "kindmps-api passes the host's NVIDIA driver files into kind nodes,
creates the cluster with kind, and starts and checks the MPS control daemon in
its GPU nodes. This package holds the kindmps-api CLI, the C library libkindmps
with its header, pkg-config and CMake files, the man page and the bash, zsh
and fish completions.")
set(CPACK_PACKAGE_HOMEPAGE_URL "https://kindmps.dev")
set(KMPS_PACKAGE_CONTACT "kindmps-api maintainers <maintainers@kindmps.dev>" CACHE STRING
  "The Maintainer of the Debian package")
set(CPACK_PACKAGE_CONTACT "${KMPS_PACKAGE_CONTACT}")
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# kind itself is not a Debian package; Docker is what every command talks to.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "docker.io | docker-ce")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "pkg-config")

# cpack --config CPackSourceConfig.cmake: the tree without build directories and Git.
set(CPACK_SOURCE_GENERATOR TGZ)
set(CPACK_SOURCE_IGNORE_FILES "/\\\\.git/" "/build[^/]*/" "__pycache__/" "\\\\.egg-info/")

include(CPack)
