// animal.cpp: a Quack plugin in C++, an Animal. It has `name()` and `sound()`, so the host finds
// it is an Animal by its methods alone and makes it speak: "Tom said Meow!".
//
// Build:  c++ -O2 -std=c++17 -shared -fPIC -I sdk/c -o libcpp_animal.so examples/cpp/animal.cpp
// Run:    host run libcpp_animal.so --set name=Felix
//
// The configuration sets its "name" (default Tom) and "sound" (default Meow!). C++ exceptions
// must not cross into the host, so every entry point catches them at the boundary and returns
// them as errors: a configuration that is not an object of strings is QUACK_INVALID_INPUT, and a
// cat in a bad "mood" throws from `sound()`: "grumpy" a std::runtime_error (QUACK_FAILED with its
// message), "feral" something that is no std::exception at all (QUACK_PANICKED).
#include <cstdlib>
#include <cstring>
#include <map>
#include <new>
#include <stdexcept>
#include <string>

#include "quack.h"

namespace {

// ---- JSON, as much as the configuration and the answers need ----

// Reads a JSON object whose values are all strings, {"name": "Felix"}.
class ObjectReader {
  public:
    ObjectReader(const char *text, size_t len) : at_(text), end_(text + len) {}

    std::map<std::string, std::string> read() {
        std::map<std::string, std::string> fields;
        expect('{');
        if (peek() == '}') {
            ++at_;
            return fields;
        }
        for (;;) {
            std::string key = string();
            expect(':');
            if (peek() != '"') throw std::invalid_argument("the configuration's \"" + key + "\" is not a string");
            fields[key] = string();
            if (peek() == ',') {
                ++at_;
                continue;
            }
            expect('}');
            return fields;
        }
    }

  private:
    char peek() {
        while (at_ < end_ && (*at_ == ' ' || *at_ == '\n' || *at_ == '\t' || *at_ == '\r')) ++at_;
        return at_ < end_ ? *at_ : '\0';
    }

    void expect(char wanted) {
        if (peek() != wanted) throw std::invalid_argument("the configuration is not a JSON object of strings");
        ++at_;
    }

    std::string string() {
        expect('"');
        std::string text;
        while (at_ < end_ && *at_ != '"') {
            char c = *at_++;
            if (c != '\\') {
                text += c;
                continue;
            }
            if (at_ >= end_) break;
            char escaped = *at_++;
            switch (escaped) {
            case 'n': text += '\n'; break;
            case 't': text += '\t'; break;
            case 'r': text += '\r'; break;
            case 'b': text += '\b'; break;
            case 'f': text += '\f'; break;
            case 'u': {
                if (end_ - at_ < 4) throw std::invalid_argument("a \\u escape is cut short");
                unsigned code = std::stoul(std::string(at_, at_ + 4), nullptr, 16);
                at_ += 4;
                // Enough for the Basic Multilingual Plane, as UTF-8.
                if (code < 0x80) {
                    text += static_cast<char>(code);
                } else if (code < 0x800) {
                    text += static_cast<char>(0xC0 | (code >> 6));
                    text += static_cast<char>(0x80 | (code & 0x3F));
                } else {
                    text += static_cast<char>(0xE0 | (code >> 12));
                    text += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
                    text += static_cast<char>(0x80 | (code & 0x3F));
                }
                break;
            }
            default: text += escaped; break;
            }
        }
        expect('"');
        return text;
    }

    const char *at_;
    const char *end_;
};

// `text` as a JSON string.
std::string quoted(const std::string &text) {
    std::string json = "\"";
    for (unsigned char c : text) {
        if (c == '"' || c == '\\') {
            json += '\\';
            json += static_cast<char>(c);
        } else if (c < 0x20) {
            char escape[8];
            std::snprintf(escape, sizeof escape, "\\u%04x", c);
            json += escape;
        } else {
            json += static_cast<char>(c);
        }
    }
    return json + "\"";
}

// ---- The animal ----

class Animal {
  public:
    explicit Animal(const std::map<std::string, std::string> &config) {
        for (const auto &field : config) {
            if (field.first == "name") {
                name_ = field.second;
            } else if (field.first == "sound") {
                sound_ = field.second;
            } else if (field.first == "mood") {
                mood_ = field.second;
            } else {
                throw std::invalid_argument("unknown setting \"" + field.first +
                                            "\": an animal takes \"name\", \"sound\" and \"mood\"");
            }
        }
        if (name_.empty()) throw std::invalid_argument("an animal's name cannot be empty");
    }

    std::string name() const { return name_; }

    std::string sound() const {
        if (mood_ == "grumpy") throw std::runtime_error(name_ + " is grumpy and will not make a sound");
        if (mood_ == "feral") throw 42;
        return sound_;
    }

  private:
    std::string name_ = "Tom";
    std::string sound_ = "Meow!";
    std::string mood_ = "calm";
};

// ---- The boundary: nothing thrown gets past it ----

char *copy(const std::string &text) {
    char *out = static_cast<char *>(std::malloc(text.size() + 1));
    if (out) std::memcpy(out, text.c_str(), text.size() + 1);
    return out;
}

// Runs `body`, which writes its JSON answer to `answer`; returns the status and writes the answer
// (or the error message) to *out.
template <typename Body>
quack_status guarded(char **out, quack_status invalid_argument_status, Body body) {
    std::string answer;
    quack_status status = QUACK_OK;
    try {
        body(answer);
    } catch (const std::invalid_argument &error) {
        status = invalid_argument_status;
        answer = error.what();
    } catch (const std::bad_alloc &) {
        status = QUACK_FAILED;
        answer = "out of memory";
    } catch (const std::exception &error) {
        status = QUACK_FAILED;
        answer = error.what();
    } catch (...) {
        status = QUACK_PANICKED;
        answer = "the animal threw something that is not a std::exception";
    }
    *out = copy(answer);
    return *out || status != QUACK_OK ? status : QUACK_FAILED;
}

quack_status describe(char **out) {
    return guarded(out, QUACK_FAILED, [](std::string &answer) {
        answer = "{\"name\": \"cpp-animal\", \"version\": \"1.0.0\","
                 " \"summary\": \"A cat with a name (default Tom) that says Meow!, in C++\","
                 " \"examples\": ["
                 "  {\"method\": \"name\", \"expected\": {\"Ok\": \"Tom\"}},"
                 "  {\"method\": \"name\", \"config\": {\"name\": \"Felix\"}, \"expected\": {\"Ok\": \"Felix\"}},"
                 "  {\"method\": \"sound\", \"expected\": {\"Ok\": \"Meow!\"}},"
                 "  {\"method\": \"sound\", \"config\": {\"mood\": \"grumpy\"},"
                 "   \"expected\": {\"Err\": \"grumpy and will not make a sound\"}}"
                 " ]}";
    });
}

quack_status methods(char **out) {
    return guarded(out, QUACK_FAILED, [](std::string &answer) {
        answer = "[{\"name\": \"name\", \"params\": [], \"result\": \"string\"},"
                 " {\"name\": \"sound\", \"params\": [], \"result\": \"string\"}]";
    });
}

quack_status new_instance(const char *config, size_t config_len, quack_instance **instance,
                          char **error) {
    Animal *made = nullptr;
    char *message = nullptr;
    quack_status status = guarded(&message, QUACK_INVALID_INPUT, [&](std::string &) {
        made = new Animal(ObjectReader(config, config_len).read());
    });
    if (status == QUACK_OK) {
        std::free(message);
        *instance = reinterpret_cast<quack_instance *>(made);
    } else {
        *error = message;
    }
    return status;
}

quack_status call(quack_instance *instance, const char *method, const char *input,
                  size_t input_len, char **out) {
    (void)input;
    (void)input_len;
    const Animal &animal = *reinterpret_cast<const Animal *>(instance);
    if (std::strcmp(method, "name") == 0) {
        return guarded(out, QUACK_INVALID_INPUT, [&](std::string &answer) { answer = quoted(animal.name()); });
    }
    if (std::strcmp(method, "sound") == 0) {
        return guarded(out, QUACK_INVALID_INPUT, [&](std::string &answer) { answer = quoted(animal.sound()); });
    }
    *out = nullptr;
    return QUACK_UNKNOWN_METHOD;
}

void free_text(char *text) { std::free(text); }

void drop_instance(quack_instance *instance) { delete reinterpret_cast<Animal *>(instance); }

const quack_plugin table = {
    QUACK_ABI_MAJOR, QUACK_ABI_MINOR, describe, methods, new_instance, call, free_text, drop_instance,
};

} // namespace

extern "C" const quack_plugin *quack_plugin_v1(void) { return &table; }
