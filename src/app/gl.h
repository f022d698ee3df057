// OpenGL headers: WebGL2 (OpenGL ES 3.0) under Emscripten, OpenGL 3.3 core natively.
#pragma once

#ifdef __EMSCRIPTEN__
#include <GLES3/gl3.h>
#define LRPSCOPE_GLSL_HEADER "#version 300 es\nprecision highp float;\nprecision highp int;\n"
#else
#define GL_GLEXT_PROTOTYPES 1
#include <GL/gl.h>
#include <GL/glext.h>
#define LRPSCOPE_GLSL_HEADER "#version 330 core\n"
#endif
