include(${CMAKE_CURRENT_LIST_DIR}/run_cli.cmake)
set(IMG "${SRC}/assets/samples/imagenet/chelsea.png")
set(M "${WORK}/tiny.safetensors")
run_cli(out rc err make-random --arch vgg16 --seed 3 --width-div 16 --input 32 --classes 10 --out "${M}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "make-random failed: ${err}")
endif()

# files
expect_error("cannot open" predict --model "${WORK}/missing.safetensors" --image "${IMG}")
file(WRITE "${WORK}/empty.safetensors" "")
expect_error("at least 8" predict --model "${WORK}/empty.safetensors" --image "${IMG}")
# truncated: the first 5000 bytes
execute_process(COMMAND head -c 5000 "${M}" OUTPUT_FILE "${WORK}/truncated.safetensors")
expect_error("outside the data section|truncated" predict --model "${WORK}/truncated.safetensors" --image "${IMG}")
# header length larger than the file
execute_process(COMMAND printf "\\377\\377\\377\\000\\000\\000\\000\\000{}" OUTPUT_FILE "${WORK}/biglen.safetensors")
expect_error("larger than the file" predict --model "${WORK}/biglen.safetensors" --image "${IMG}")
# a text file
file(WRITE "${WORK}/text.safetensors" "this is not a model, just some text\n")
expect_error("safetensors" predict --model "${WORK}/text.safetensors" --image "${IMG}")
# not a VGG
execute_process(COMMAND printf "\\066\\000\\000\\000\\000\\000\\000\\000{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}  \\000\\000\\000\\000"
                OUTPUT_FILE "${WORK}/notvgg.safetensors")
expect_error("do not form a VGG" predict --model "${WORK}/notvgg.safetensors" --image "${IMG}")
# unknown dtype
execute_process(COMMAND printf "\\066\\000\\000\\000\\000\\000\\000\\000{\"x\":{\"dtype\":\"Q9\",\"shape\":[1],\"data_offsets\":[0,4]}}  \\000\\000\\000\\000"
                OUTPUT_FILE "${WORK}/dtype.safetensors")
expect_error("unknown dtype" predict --model "${WORK}/dtype.safetensors" --image "${IMG}")

# images
expect_error("cannot open image" predict --model "${M}" --image "${WORK}/missing.png")
file(WRITE "${WORK}/zero.png" "")
expect_error("empty" predict --model "${M}" --image "${WORK}/zero.png")
execute_process(COMMAND printf "\\211PNG garbage garbage garbage" OUTPUT_FILE "${WORK}/corrupt.png")
expect_error("not a picture lrpscope can read" predict --model "${M}" --image "${WORK}/corrupt.png")
# a PNG header claiming 100000 x 100000 pixels
execute_process(COMMAND printf "\\211PNG\\r\\n\\032\\n\\000\\000\\000\\rIHDR\\000\\001\\206\\240\\000\\001\\206\\240\\010\\002\\000\\000\\000\\000\\000\\000\\000"
                OUTPUT_FILE "${WORK}/huge.png")
expect_error("100000x100000|megapixels" predict --model "${M}" --image "${WORK}/huge.png")

# options
expect_error("unknown option --bogus" predict --model "${M}" --image "${IMG}" --bogus)
expect_error("--top must be an integer" predict --model "${M}" --image "${IMG}" --top zero)
expect_error("missing required option --image" predict --model "${M}")
expect_error("unknown architecture" make-random --arch resnet50 --seed 1 --out "${WORK}/x.safetensors")
expect_error("--threads" predict --model "${M}" --image "${IMG}" --threads 0)
