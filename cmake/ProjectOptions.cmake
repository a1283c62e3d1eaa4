# Per-target compile options shared by every target of ours (spdlog-style helpers).
option(ETCD_DEFRAGD_WERROR "Treat warnings as errors" ON)
# ETCD_DEFRAGD_SANITIZE: OFF, ON (= address,undefined: AddressSanitizer + UBSan) or thread
# (ThreadSanitizer; cannot be combined with ASan).
set(ETCD_DEFRAGD_SANITIZE OFF CACHE STRING "OFF, ON (ASan + UBSan) or thread (TSan)")

function(edd_target_defaults target)
  target_compile_features(${target} PUBLIC cxx_std_20)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wconversion -Wshadow
                                           -Wnon-virtual-dtor)
  if(ETCD_DEFRAGD_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

if(ETCD_DEFRAGD_SANITIZE STREQUAL "thread")
  # -Wno-tsan: Boost.Asio's handler fences (std::atomic_thread_fence) are not modelled by TSan;
  # GCC warns about each use, which would be an error here.
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer -Wno-tsan)
  add_link_options(-fsanitize=thread)
elseif(ETCD_DEFRAGD_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
