# Per-target compile options shared by every target of ours (spdlog-style helpers).
option(ETCD_DEFRAGD_WERROR "Treat warnings as errors" ON)
option(ETCD_DEFRAGD_SANITIZE "Build with AddressSanitizer + UBSan" OFF)

function(edd_target_defaults target)
  target_compile_features(${target} PUBLIC cxx_std_20)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wconversion -Wshadow
                                           -Wnon-virtual-dtor)
  if(ETCD_DEFRAGD_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

if(ETCD_DEFRAGD_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
