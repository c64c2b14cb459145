# Debian splits OpenCV into per-module -dev packages; only the meta package libopencv-dev ships
# OpenCVConfig.cmake, and it pulls in hundreds of MiB we do not use. Find the three modules we
# need directly and expose them as one imported target, fedsmear::opencv.
find_path(FEDSMEAR_OPENCV_INCLUDE opencv2/core.hpp PATH_SUFFIXES opencv4 REQUIRED)
set(_fedsmear_cv_libs)
foreach(mod core imgproc imgcodecs)
  find_library(FEDSMEAR_OPENCV_${mod} opencv_${mod} REQUIRED)
  list(APPEND _fedsmear_cv_libs ${FEDSMEAR_OPENCV_${mod}})
endforeach()
add_library(fedsmear_opencv INTERFACE)
target_include_directories(fedsmear_opencv SYSTEM INTERFACE ${FEDSMEAR_OPENCV_INCLUDE})
target_link_libraries(fedsmear_opencv INTERFACE ${_fedsmear_cv_libs})
add_library(fedsmear::opencv ALIAS fedsmear_opencv)
