# The ROS 2 PyPI wheels were built in a manylinux container and bake its Python include directory
# (/opt/python/cp311-cp311/include/python3.11) into their exported CMake targets. That directory does
# not exist here, so CMake's generate step fails on every target that links them. Remove exactly
# non-existent /opt/python/... entries from every imported target's INTERFACE_INCLUDE_DIRECTORIES;
# any other error still fails the build.
function(_l2b2_fix_target_includes target)
  get_target_property(_imported ${target} IMPORTED)
  if(NOT _imported)
    return()
  endif()
  get_target_property(_dirs ${target} INTERFACE_INCLUDE_DIRECTORIES)
  if(NOT _dirs)
    return()
  endif()
  set(_kept "")
  foreach(_d IN LISTS _dirs)
    if(_d MATCHES "^/opt/python/" AND NOT EXISTS "${_d}")
      continue()
    endif()
    list(APPEND _kept "${_d}")
  endforeach()
  set_target_properties(${target} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${_kept}")
endfunction()

function(_l2b2_fix_dir_targets dir)
  get_property(_targets DIRECTORY "${dir}" PROPERTY IMPORTED_TARGETS)
  foreach(_t IN LISTS _targets)
    _l2b2_fix_target_includes(${_t})
  endforeach()
  get_property(_subdirs DIRECTORY "${dir}" PROPERTY SUBDIRECTORIES)
  foreach(_s IN LISTS _subdirs)
    _l2b2_fix_dir_targets("${_s}")
  endforeach()
endfunction()

_l2b2_fix_dir_targets("${CMAKE_CURRENT_SOURCE_DIR}")
