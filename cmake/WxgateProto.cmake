# wxgate_proto_library(NAME target PROTOS a.proto b.proto [GRPC] [ROOT dir] [DEPS targets])
# Generates C++ (and gRPC stubs when GRPC is given) from protos under proto/ into the
# build tree, keeping the import paths ("wxgate/v1/identity.proto") as include paths.
set(WXGATE_PROTO_ROOT ${CMAKE_SOURCE_DIR}/proto)
set(WXGATE_PROTO_OUT ${CMAKE_BINARY_DIR}/gen)
file(MAKE_DIRECTORY ${WXGATE_PROTO_OUT})

function(wxgate_proto_library)
  cmake_parse_arguments(P "GRPC" "NAME;ROOT" "PROTOS;DEPS" ${ARGN})
  if(NOT P_ROOT)
    set(P_ROOT ${WXGATE_PROTO_ROOT})
  endif()
  set(srcs)
  foreach(proto ${P_PROTOS})
    string(REGEX REPLACE "\\.proto$" "" base ${proto})
    set(outs ${WXGATE_PROTO_OUT}/${base}.pb.cc ${WXGATE_PROTO_OUT}/${base}.pb.h)
    set(plugin_args)
    if(P_GRPC)
      list(APPEND outs ${WXGATE_PROTO_OUT}/${base}.grpc.pb.cc ${WXGATE_PROTO_OUT}/${base}.grpc.pb.h)
      set(plugin_args --grpc_out=${WXGATE_PROTO_OUT} --plugin=protoc-gen-grpc=${GRPC_CPP_PLUGIN})
    endif()
    add_custom_command(
      OUTPUT ${outs}
      COMMAND protobuf::protoc
        -I${P_ROOT} -I${Protobuf_INCLUDE_DIRS}
        --cpp_out=${WXGATE_PROTO_OUT} ${plugin_args}
        ${P_ROOT}/${proto}
      DEPENDS ${P_ROOT}/${proto} protobuf::protoc
      COMMENT "protoc ${proto}"
      VERBATIM)
    list(APPEND srcs ${outs})
  endforeach()
  add_library(${P_NAME} STATIC ${srcs})
  # Generated code is not ours to warn about.
  target_compile_options(${P_NAME} PRIVATE -w)
  target_include_directories(${P_NAME} PUBLIC ${WXGATE_PROTO_OUT})
  target_link_libraries(${P_NAME} PUBLIC protobuf::libprotobuf ${P_DEPS})
  if(P_GRPC)
    target_link_libraries(${P_NAME} PUBLIC gRPC::grpc++)
  endif()
endfunction()
